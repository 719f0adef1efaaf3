import { renderCustom } from './custom.js';
import { renderDingTalk } from './dingtalk.js';
import { renderDiscord } from './discord.js';
import { renderFeishu } from './feishu.js';
import { renderGeneric } from './generic.js';
import { renderGoogleChat } from './googlechat.js';
import { renderMsTeams } from './msteams.js';
import type { RendererRegistry } from './renderer.js';
import { renderSlack } from './slack.js';
import { renderWeCom } from './wecom.js';

/** The body of each webhook type; the dispatcher and previewPayload use the same ones. */
export const renderers: Required<RendererRegistry> = {
  GENERIC: renderGeneric,
  SLACK: renderSlack,
  MSTEAMS: renderMsTeams,
  GOOGLECHAT: renderGoogleChat,
  DISCORD: renderDiscord,
  DINGTALK: renderDingTalk,
  FEISHU: renderFeishu,
  WECOM: renderWeCom,
  CUSTOM: renderCustom,
};
