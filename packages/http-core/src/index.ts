export { type HttpCoreOptions, registerHttpCore } from './http-core.ts';
export { sendError } from './send-error.ts';
