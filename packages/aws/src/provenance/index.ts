export * from './statement';
export * from './dsse';
export * from './oci';
export * from './check';
