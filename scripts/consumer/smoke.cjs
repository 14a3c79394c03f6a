const { createRedisCoordination, IncompleteStreamError, ResilientOpenAI } = require('resilient-openai');
const OpenAI = require('openai');
const upstreams = require('./upstreams.cjs');
upstreams
  .check(ResilientOpenAI, OpenAI.OpenAI, 'require()')
  .then(() => upstreams.checkRedis(createRedisCoordination, ResilientOpenAI, 'require()'))
  .then(() => upstreams.checkTelemetry(ResilientOpenAI, 'require()'))
  .then(() => upstreams.checkStreams(ResilientOpenAI, IncompleteStreamError, 'require()'))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
