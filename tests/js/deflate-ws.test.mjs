// permessage-deflate between wsaction and ws on Node: the cases are deflate-ws-cases.mjs's.
import { test } from 'node:test';
import * as wsaction from '../../pkg/node.js';
import { deflateWsTests } from './deflate-ws-cases.mjs';

deflateWsTests(test, wsaction);
