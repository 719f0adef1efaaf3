import { renderGeneric } from './generic.js';
import type { Renderer } from './renderer.js';

// Placeholder until the MsTeams format is written: the GENERIC envelope.
export const renderMsTeams: Renderer = renderGeneric;
