import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatTimestamp, gpuResourceName, parseBytesQuantity, parseCpu, parseDuration, parseResources, parseTimestamp } from '../../../src/shared/protocol/index.js'

test('timestamps: write 3 fraction digits with Z, read 0–9 digits, Z only', () => {
  assert.equal(formatTimestamp(Date.UTC(2026, 10, 23, 21, 40, 0, 123)), '2026-11-23T21:40:00.123Z')
  assert.equal(parseTimestamp('2026-11-23T21:40:00Z'), Date.UTC(2026, 10, 23, 21, 40))
  assert.equal(parseTimestamp('2026-11-23T21:40:00.1Z'), Date.UTC(2026, 10, 23, 21, 40, 0, 100))
  assert.equal(parseTimestamp('2026-11-23T21:40:00.123456789Z'), Date.UTC(2026, 10, 23, 21, 40, 0, 123))
  for (const bad of ['2026-11-23T21:40:00+00:00', '2026-11-23 21:40:00Z', '2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T21:40:00.1234567890Z', '']) {
    assert.throws(() => parseTimestamp(bad), /bad timestamp/, bad)
  }
})

test('durations: ISO 8601 without years/months', () => {
  assert.equal(parseDuration('PT30S'), 30_000)
  assert.equal(parseDuration('PT1M30.5S'), 90_500)
  assert.equal(parseDuration('P1DT1H'), 90_000_000)
  assert.equal(parseDuration('PT0S'), 0)
  for (const bad of ['P', 'PT', '30S', 'P1Y', 'P1M', 'PT-1S', 'pt30s']) assert.throws(() => parseDuration(bad), /bad duration/, bad)
})

test('resource quantities of profile 6.1', () => {
  assert.equal(parseCpu('0.5c'), 0.5)
  assert.equal(parseCpu('16c'), 16)
  for (const bad of ['0c', '0.0c', '1.2345c', '-1c', '1', '1 c', '01c']) assert.throws(() => parseCpu(bad), /CPU/, bad)
  assert.equal(parseBytesQuantity('512MiB'), 512 * 2 ** 20)
  assert.equal(parseBytesQuantity('8GiB'), 8 * 2 ** 30)
  for (const bad of ['8GB', '0MiB', '1.5GiB', 'GiB']) assert.throws(() => parseBytesQuantity(bad), /quantity/, bad)
  assert.deepEqual(parseResources({ CPU: '2c', RAM: '1GiB', DISK: '10GiB', GPU_NVIDIA_H100_80GB_HBM3: '1', FPGA: 'x' }),
    { cpu: 2, ramBytes: 2 ** 30, diskBytes: 10 * 2 ** 30, gpus: { GPU_NVIDIA_H100_80GB_HBM3: 1 } })
  assert.throws(() => parseResources({ DISK: '512MiB' }), /DISK/)
  assert.throws(() => parseResources({ GPU_X: '0' }), /GPU count/)
  assert.equal(gpuResourceName('NVIDIA', 'H100 80GB HBM3'), 'GPU_NVIDIA_H100_80GB_HBM3')
})
