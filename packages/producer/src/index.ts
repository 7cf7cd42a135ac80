export type { EditStatus } from './edit-status.ts';
export { jobIdForKey } from './job-ids.ts';
export {
  BulkValidationError,
  createProducer,
  type EditHandle,
  EditProducer,
  type EnqueueOptions,
  type ProducerOptions,
  validateEditRequest,
} from './producer.ts';
export { EditFailedError } from './wait-for-result.ts';
