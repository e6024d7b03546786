/**
 * Loaded by path into the worker and the workflow sandbox: failure messages and stack traces travel
 * as an encoded payload (so through the codec) instead of plain text in history.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
