import { z } from 'zod';

// Input schemas of the two edit models. The allowed values are the model pages' input tables
// (authoritative); limits Runflow does not publish are ours and say so.

/** Prompt length: 50,000 characters is nano-banana-2's published cap; we apply it to both models. */
export const MAX_PROMPT_CHARS = 50_000;
/** Runflow publishes no cap on `image_urls`; 14 is the underlying Google model's reference-image cap. */
export const MAX_IMAGE_URLS = 14;
/** Runflow's callback and batch URLs cap at 2048 characters; we hold image URLs to the same. */
export const MAX_URL_CHARS = 2048;
/** `num_images` bounds (default 1). */
export const MAX_NUM_IMAGES = 4;

export const HttpUrl = z
  .string()
  .max(MAX_URL_CHARS)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http(s) URL' },
  );

const commonFields = {
  prompt: z.string().trim().min(1).max(MAX_PROMPT_CHARS),
  image_urls: z.array(HttpUrl).min(1).max(MAX_IMAGE_URLS),
  aspect_ratio: z.string().min(1).max(32).optional(),
  enable_web_search: z.boolean().optional(),
  num_images: z.number().int().min(1).max(MAX_NUM_IMAGES).optional(),
  output_format: z.enum(['jpeg', 'png', 'webp']).optional(),
  sync_mode: z.boolean().optional(),
  safety_tolerance: z.enum(['1', '2', '3', '4', '5', '6']).optional(),
  seed: z.number().int().optional(),
  limit_generations: z.boolean().optional(),
};

export const NanoBananaProEditInput = z.strictObject({
  ...commonFields,
  resolution: z.enum(['1K', '2K', '4K']).optional(),
});
export type NanoBananaProEditInput = z.infer<typeof NanoBananaProEditInput>;

export const NanoBanana2EditInput = z.strictObject({
  ...commonFields,
  resolution: z.enum(['0.5K', '1K', '2K', '4K']).optional(),
  thinking_level: z.enum(['minimal', 'high']).optional(),
});
export type NanoBanana2EditInput = z.infer<typeof NanoBanana2EditInput>;
