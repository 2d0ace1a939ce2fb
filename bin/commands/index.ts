import { Command } from 'commander';

import { registerDetectCommand } from './detect';
import { registerExcerptCommand } from './excerpt';

/** Every subcommand registers itself here; each lives in its own module under bin/commands/. */
export function registerCommands(program: Command): void {
  registerExcerptCommand(program);
  registerDetectCommand(program);
}
