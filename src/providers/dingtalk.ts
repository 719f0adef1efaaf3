import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the DingTalk format is written: the GENERIC envelope.
export const renderDingTalk: Renderer = renderGeneric;
