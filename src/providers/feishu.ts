import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the Feishu format is written: the GENERIC envelope.
export const renderFeishu: Renderer = renderGeneric;
