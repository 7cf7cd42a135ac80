import { EditRequest, MODEL_IDS } from '@runflow-queue/shared';
import { describe, expect, it } from 'vitest';
import { jobDataSchema } from './job-data-schema.ts';

type Schema = {
  oneOf?: Schema[];
  properties?: Record<string, Schema & { const?: string }>;
  required?: string[];
  examples?: unknown[];
  additionalProperties?: boolean;
};

describe('jobDataSchema', () => {
  it('offers every model with its own input schema, from the producer’s zod schema', () => {
    const schema = jobDataSchema() as Schema;
    expect(schema.oneOf?.map((s) => s.properties?.model.const)).toEqual([...MODEL_IDS]);
    for (const option of schema.oneOf ?? []) {
      expect(option.required).toEqual(['model', 'input']);
      expect(option.properties?.input.required).toEqual(['prompt', 'image_urls']);
      expect(option.properties).not.toHaveProperty('idempotencyKey');
      expect(option.additionalProperties).toBe(false);
    }
  });

  it('offers only the models a queue allows', () => {
    const schema = jobDataSchema(['google/nano-banana-2/edit']) as Schema;
    expect(schema.oneOf).toBeUndefined();
    expect(schema.properties?.model.const).toBe('google/nano-banana-2/edit');
    expect(schema.properties?.input.properties).toHaveProperty('thinking_level');
  });

  it('prefills the form with an example the producer accepts', () => {
    for (const models of [undefined, ['google/nano-banana-2/edit']]) {
      const [example] = (jobDataSchema(models) as Schema).examples ?? [];
      expect(EditRequest.safeParse(example).success).toBe(true);
    }
  });
});
