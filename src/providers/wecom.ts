import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the WeCom format is written: the GENERIC envelope.
export const renderWeCom: Renderer = renderGeneric;
