import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the Discord format is written: the GENERIC envelope.
export const renderDiscord: Renderer = renderGeneric;
