import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the GoogleChat format is written: the GENERIC envelope.
export const renderGoogleChat: Renderer = renderGeneric;
