/** The platforms a webhook may send to, in the order the console lists them. */
export const WEBHOOK_TYPES = [
  'GENERIC',
  'SLACK',
  'MSTEAMS',
  'GOOGLECHAT',
  'DISCORD',
  'DINGTALK',
  'FEISHU',
  'WECOM',
  'CUSTOM',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];
