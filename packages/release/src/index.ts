export * from './assets';
export * from './changelog';
export * from './git';
export * from './github';
export * from './pin';
export * from './release';
export * from './uses';
export * from './version';
