import { EditRequest } from '@runflow-queue/shared';
import { z } from 'zod';

const EXAMPLE_IMAGE = 'https://example.com/input.png';

/**
 * JSON Schema of what Bull Board's "Add job" form sends as job data, generated from the producer's own
 * zod schema: an edit request (model + that model's input, tags) for the models the queue allows, minus
 * `idempotencyKey` (a board job gets BullMQ's own id). The worker fills in `step` and `enqueuedAt` and
 * re-validates everything on dequeue, so a bad job fails INVALID_JOB_DATA before any money moves.
 */
export function jobDataSchema(models?: readonly string[]): Record<string, unknown> {
  const options = EditRequest.options
    .filter((option) => !models || models.includes(option.shape.model.value))
    .map((option) => option.omit({ idempotencyKey: true }));
  if (options.length === 0) throw new Error(`no known model among ${models?.join(', ')}`);
  const schema =
    options.length === 1
      ? options[0]
      : z.discriminatedUnion('model', options as [(typeof options)[0], ...typeof options]);
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  const model = options[0].shape.model.value;
  return {
    ...json,
    title: 'Edit job',
    description: `One Runflow image edit (${options.map((o) => o.shape.model.value).join(' or ')}); the worker submits it once and settles its spend.`,
    examples: [{ model, input: { prompt: 'put the product on a marble table', image_urls: [EXAMPLE_IMAGE] } }],
  };
}
