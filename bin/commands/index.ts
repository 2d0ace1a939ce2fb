import { Command } from 'commander';

import { registerApproveCommands } from './approve';
import { registerBackfillCommand } from './backfill';
import { registerCollectSampleCommand } from './collect-sample';
import { registerDetectCommand } from './detect';
import { registerExcerptCommand } from './excerpt';
import { registerFlakyCommand } from './flaky';
import { registerModeCommand } from './mode';
import { registerRedriveCommand } from './redrive';
import { registerRemediationStatusCommand } from './remediation-status';
import { registerReplayCommand } from './replay';
import { registerStatusCommand } from './status';
import { registerSuggestCommand } from './suggest';

/** Every subcommand registers itself here; each lives in its own module under bin/commands/. */
export function registerCommands(program: Command): void {
  registerCollectSampleCommand(program);
  registerBackfillCommand(program);
  registerExcerptCommand(program);
  registerSuggestCommand(program);
  registerDetectCommand(program);
  registerApproveCommands(program);
  registerStatusCommand(program);
  registerModeCommand(program);
  registerRemediationStatusCommand(program);
  registerReplayCommand(program);
  registerRedriveCommand(program);
  registerFlakyCommand(program);
}
