import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the Slack format is written: the GENERIC envelope.
export const renderSlack: Renderer = renderGeneric;
