/** The erasure workflows' own metrics. */
import { metricMeter } from '@temporalio/workflow';

/** Our metrics, made when a workflow runs (the meter is bound to the running workflow, not the module); not emitted on replay. */
export function workflowMetrics() {
  return {
    erasuresFinished: metricMeter.createCounter('dsar_erasures_finished', 'requests', 'Erasure requests finished, by outcome'),
    erasureDuration: metricMeter.createHistogram('dsar_erasure_duration_seconds', 'float', 's', 'From start to end of an erasure request, by outcome'),
    blockedDuration: metricMeter.createHistogram(
      'dsar_blocked_duration_seconds',
      'float',
      's',
      'How long a person stayed blocked by interviews before Comeet erased them',
    ),
    followUpsFailed: metricMeter.createCounter('dsar_follow_ups_failed', 'follow-ups', 'Follow-up lookups that failed after their retries'),
  };
}
