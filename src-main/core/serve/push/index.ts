export { pushImages, type PushItem, type PushOptions, type PushSummary } from './push.js';
export { parsePushTarget, targetRepository, type PushTarget } from './target.js';
