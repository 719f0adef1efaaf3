import type { Logger, RunnerOptions, Task } from 'graphile-worker';
import type pg from 'pg';

export declare const CONCURRENCY: number;
export declare const quietLogger: Logger;
export declare const preset: NonNullable<RunnerOptions['preset']>;
export declare function tunedPool(connectionString: string, max?: number): pg.Pool;
/** A job's payload is `{ url: string; body: string }`. */
export declare function deliveryTask(): { deliver: Task; close(): Promise<void> };
