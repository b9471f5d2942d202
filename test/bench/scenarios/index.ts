/** Every benchmark scenario, in the order they run. Add a plugin's scenario here. */
import type { Scenario } from '../harness.js';
import { kernelScenario } from './kernel.js';
import { outboxScenario } from './outbox.js';
import { opsdroidScenario } from './opsdroid.js';
import { redballScenario } from './redball.js';
import { talkScenario } from './talk.js';
import { anopeScenario } from './anope.js';
import { owncastScenario } from './owncast.js';
import { startupScenario } from './startup.js';
import { disableProtoScenario } from './disable-proto.js';
import { metricsOverheadScenario } from './metrics-overhead.js';
import { authFloodScenario } from './auth-flood.js';

export const scenarios: Scenario[] = [kernelScenario, disableProtoScenario, metricsOverheadScenario, outboxScenario, opsdroidScenario, redballScenario, talkScenario, anopeScenario, owncastScenario, authFloodScenario, startupScenario];
