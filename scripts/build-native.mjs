// Builds the native engine's addon when its sources and system packages are
// present; otherwise says what is missing and leaves the tfjs engine in charge.
// (Filled in by the native-engine work.)
import { existsSync } from 'node:fs';
if (!existsSync('binding.gyp')) process.exit(0);
