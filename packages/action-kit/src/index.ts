export * from './errors';
export * from './inputs';
export * from './retry';
export * from './exec';
export * from './io';
export * from './github';
export * from './markdown';
export * from './run-action';
