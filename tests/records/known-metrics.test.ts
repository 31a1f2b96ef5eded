import { describe, expect, it } from 'vitest';
import { KNOWN_METRICS, isKnownMetric } from '../../src/records/known-metrics.js';

describe('known names', () => {
  it('KNOWN_METRICS: ~150 unique snake_case names including the common ones', () => {
    expect(KNOWN_METRICS.length).toBeGreaterThanOrEqual(140);
    expect(new Set(KNOWN_METRICS).size).toBe(KNOWN_METRICS.length);
    for (const n of KNOWN_METRICS) expect(n).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    for (const n of [
      'active_energy', 'apple_exercise_time', 'apple_stand_hour', 'apple_stand_time', 'basal_energy_burned',
      'blood_glucose', 'blood_oxygen_saturation', 'body_fat_percentage', 'body_mass_index', 'body_temperature',
      'dietary_energy', 'dietary_protein', 'distance_cycling', 'distance_walking_running', 'environmental_audio_exposure',
      'flights_climbed', 'headphone_audio_exposure', 'heart_rate', 'heart_rate_variability', 'lean_body_mass',
      'physical_effort', 'resting_heart_rate', 'respiratory_rate', 'six_minute_walking_test_distance', 'stair_speed_up',
      'stair_speed_down', 'step_count', 'time_in_daylight', 'vo2_max', 'walking_asymmetry_percentage',
      'walking_double_support_percentage', 'walking_heart_rate_average', 'walking_speed', 'walking_step_length',
      'weight_body_mass', 'sleep_analysis', 'blood_pressure', 'mindful_minutes', 'handwashing', 'toothbrushing',
      'apple_sleeping_wrist_temperature', 'cardio_recovery', 'atrial_fibrillation_burden',
    ]) {
      expect(isKnownMetric(n), n).toBe(true);
    }
  });
});
