import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './types/scalars.js';
import './types/webhook.js';
import './types/event.js';
import './types/delivery.js';
import './types/live.js';
import './types/token.js';

export const schema = builder.toSchema();

/** The SDL committed as `schema.graphql`, sorted so that it diffs well. */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;
