import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the Custom format is written: the GENERIC envelope.
export const renderCustom: Renderer = renderGeneric;
