/**
 * Imported for its effect: English issue messages for zod/mini. zod/mini keeps bundles small by shipping
 * no messages (classic zod adds ~445 KiB to every bundle); with the English locale configured, rejections
 * say what was wrong, word for word as classic zod did. Every Lambda module with a zod schema imports it
 * next to `import * as z from 'zod/mini'` (never re-export that namespace: it defeats tree shaking).
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.cjs';

config(en());
