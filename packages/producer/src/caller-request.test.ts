import { EditValidationError } from '@runflow-queue/shared';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type CallerEditRequest, callerRequestIssues, validateCallerRequest } from './caller-request.ts';

const pro = {
  model: 'google/nano-banana-pro/edit' as const,
  input: { prompt: 'x', image_urls: ['https://e.com/a.png'] },
};

describe('caller requests', () => {
  it('types each model’s input separately', () => {
    expectTypeOf<Extract<CallerEditRequest, { model: 'google/nano-banana-2/edit' }>['input']>().toHaveProperty(
      'thinking_level',
    );
    expectTypeOf<Extract<CallerEditRequest, { model: 'google/nano-banana-pro/edit' }>['input']>().not.toHaveProperty(
      'thinking_level',
    );
    const ok: CallerEditRequest = { ...pro, notifyUrl: 'https://hooks.example.com/x' };
    // @ts-expect-error — nano-banana-pro has no thinking_level
    const wrong: CallerEditRequest = { ...pro, input: { ...pro.input, thinking_level: 'high' } };
    // @ts-expect-error — the model decides the input type; an unknown model is not a CallerEditRequest
    const unknownModel: CallerEditRequest = { model: 'google/nano-banana-9/edit', input: pro.input };
    expect(callerRequestIssues(ok)).toEqual([]);
    expect(callerRequestIssues(wrong).map((i) => i.path)).toEqual(['input.thinking_level']);
    expect(callerRequestIssues(unknownModel)[0]).toMatchObject({ path: 'model', value: 'google/nano-banana-9/edit' });
  });

  it('reports request, notifyUrl and option issues together, in one error', () => {
    const error = (() => {
      try {
        validateCallerRequest(
          { ...pro, input: { ...pro.input, num_images: 9 }, notifyUrl: 'http://hooks.example.com' },
          { priority: 3.5, delayMs: -1 },
        );
      } catch (e) {
        return e as EditValidationError;
      }
    })();
    expect(error).toBeInstanceOf(EditValidationError);
    expect(error?.code).toBe('INVALID_INPUT');
    expect(error?.issues.map((i) => i.path)).toEqual(['input.num_images', 'notifyUrl', 'priority', 'delayMs']);
    expect(error?.message).toContain('notifyUrl: "http://hooks.example.com" — must be an https:// URL');
  });

  it('returns the parsed request and the notifyUrl apart', () => {
    const { request, notifyUrl } = validateCallerRequest({ ...pro, notifyUrl: 'https://hooks.example.com/x' });
    expect(request).toEqual(pro);
    expect(notifyUrl).toBe('https://hooks.example.com/x');
  });
});
