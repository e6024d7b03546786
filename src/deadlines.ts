/**
 * The regulations a request is made under and the deadlines each sets. No Node imports: the workflow
 * bundle uses it.
 */
export const REGULATIONS = ['gdpr', 'ccpa'] as const;
export type Regulation = (typeof REGULATIONS)[number];

const DAY = 24 * 60 * 60_000;

/** How long each regulation lets a controller take, extensions included (see maxExtendedDeadline). */
export const EXTENSION_RULE: Record<Regulation, string> = {
  gdpr: 'one month, extendable by two further months',
  ccpa: '45 days, extendable once by 45 more',
};

/** Adds calendar months in UTC, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(date: Date, months: number): Date {
  const d = new Date(date.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d;
}

/**
 * GDPR art. 12(3): one month from receipt, extendable by two further months. CCPA (Cal. Civ. Code
 * 1798.130): 45 days, extendable once by another 45.
 */
export function regulationDeadline(regulation: Regulation, receivedAt: Date): Date {
  return regulation === 'gdpr' ? addMonths(receivedAt, 1) : new Date(receivedAt.getTime() + 45 * DAY);
}
export function maxExtendedDeadline(regulation: Regulation, receivedAt: Date): Date {
  return regulation === 'gdpr' ? addMonths(receivedAt, 3) : new Date(receivedAt.getTime() + 90 * DAY);
}
