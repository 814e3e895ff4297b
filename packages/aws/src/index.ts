export * from './errors';
export * from './ecr';
