/**
 * Apple Health type identifiers (HKQuantityTypeIdentifier..., HKCategoryTypeIdentifier...) → the
 * metric names Health Auto Export writes (src/hae/map-known.ts), so that an HAE import and an
 * Apple export of the same samples land on the same rows (the conflict key is metric, time and
 * source) instead of doubling.
 *
 * An identifier not in the table is stored under its own name: the `HK...TypeIdentifier` prefix
 * stripped and the rest snake_cased (HKQuantityTypeIdentifierEstimatedWorkoutEffortScore →
 * estimated_workout_effort_score). Names are data, never a reason to reject.
 */

export type AppleKind =
  /** A number with a unit → QuantityRecord (activity_metrics). */
  | 'quantity'
  /** heart_rate → HeartRateRecord (heart_rate_metrics) with min = avg = max = the sample. */
  | 'heart_rate'
  /** SleepAnalysis → SleepStageRecord (sleep_stages). */
  | 'sleep'
  /** Other category samples: the string value → QuantityRecord.text. */
  | 'category'
  /** MindfulSession: a category sample whose meaning is its duration → qty in minutes. */
  | 'duration_min'
  /** AppleStandHour: Stood / Idle → qty 1 / 0 (HAE counts stood hours), text kept. */
  | 'stand_hour';

export interface AppleType {
  metric: string;
  kind: AppleKind;
}

const Q = 'HKQuantityTypeIdentifier';
const C = 'HKCategoryTypeIdentifier';

/** Quantity types whose HAE name is not simply the snake_cased identifier, or that need a kind. */
const QUANTITY: Record<string, string> = {
  // Activity
  StepCount: 'step_count',
  DistanceWalkingRunning: 'distance_walking_running',
  DistanceCycling: 'distance_cycling',
  DistanceSwimming: 'distance_swimming',
  DistanceWheelchair: 'distance_wheelchair',
  DistanceDownhillSnowSports: 'distance_downhill_snow_sports',
  DistanceRowing: 'rowing_distance',
  DistancePaddleSports: 'paddle_sports_distance',
  DistanceCrossCountrySkiing: 'cross_country_skiing_distance',
  DistanceSkatingSports: 'skating_sports_distance',
  RowingSpeed: 'rowing_speed',
  PaddleSportsSpeed: 'paddle_sports_speed',
  CrossCountrySkiingSpeed: 'cross_country_skiing_speed',
  ActiveEnergyBurned: 'active_energy',
  BasalEnergyBurned: 'basal_energy_burned',
  FlightsClimbed: 'flights_climbed',
  AppleExerciseTime: 'apple_exercise_time',
  AppleMoveTime: 'apple_move_time',
  AppleStandTime: 'apple_stand_time',
  PushCount: 'push_count',
  SwimmingStrokeCount: 'swimming_stroke_count',
  NikeFuel: 'nike_fuel',
  PhysicalEffort: 'physical_effort',
  TimeInDaylight: 'time_in_daylight',
  VO2Max: 'vo2_max',
  WorkoutEffortScore: 'workout_effort_score',
  EstimatedWorkoutEffortScore: 'estimated_workout_effort_score',
  // Running / cycling / water
  RunningPower: 'running_power',
  RunningSpeed: 'running_speed',
  RunningStrideLength: 'running_stride_length',
  RunningGroundContactTime: 'running_ground_contact_time',
  RunningVerticalOscillation: 'running_vertical_oscillation',
  CyclingCadence: 'cycling_cadence',
  CyclingPower: 'cycling_power',
  CyclingSpeed: 'cycling_speed',
  CyclingFunctionalThresholdPower: 'cycling_functional_threshold_power',
  UnderwaterDepth: 'underwater_depth',
  WaterTemperature: 'water_temperature',
  // Body
  BodyMass: 'weight_body_mass',
  BodyMassIndex: 'body_mass_index',
  BodyFatPercentage: 'body_fat_percentage',
  LeanBodyMass: 'lean_body_mass',
  Height: 'height',
  WaistCircumference: 'waist_circumference',
  BodyTemperature: 'body_temperature',
  BasalBodyTemperature: 'basal_body_temperature',
  AppleSleepingWristTemperature: 'apple_sleeping_wrist_temperature',
  // Heart
  HeartRateVariabilitySDNN: 'heart_rate_variability',
  RestingHeartRate: 'resting_heart_rate',
  WalkingHeartRateAverage: 'walking_heart_rate_average',
  HeartRateRecoveryOneMinute: 'cardio_recovery',
  AtrialFibrillationBurden: 'atrial_fibrillation_burden',
  PeripheralPerfusionIndex: 'peripheral_perfusion_index',
  BloodPressureSystolic: 'blood_pressure_systolic',
  BloodPressureDiastolic: 'blood_pressure_diastolic',
  // Respiratory
  RespiratoryRate: 'respiratory_rate',
  OxygenSaturation: 'blood_oxygen_saturation',
  ForcedExpiratoryVolume1: 'forced_expiratory_volume_1',
  ForcedVitalCapacity: 'forced_vital_capacity',
  PeakExpiratoryFlowRate: 'peak_expiratory_flow_rate',
  InhalerUsage: 'inhaler_usage',
  AppleSleepingBreathingDisturbances: 'apple_sleeping_breathing_disturbances',
  // Lab and other vitals
  BloodAlcoholContent: 'blood_alcohol_content',
  BloodGlucose: 'blood_glucose',
  ElectrodermalActivity: 'electrodermal_activity',
  InsulinDelivery: 'insulin_delivery',
  NumberOfAlcoholicBeverages: 'number_of_alcoholic_beverages',
  NumberOfTimesFallen: 'number_of_times_fallen',
  UVExposure: 'uv_exposure',
  // Mobility
  WalkingSpeed: 'walking_speed',
  WalkingStepLength: 'walking_step_length',
  WalkingAsymmetryPercentage: 'walking_asymmetry_percentage',
  WalkingDoubleSupportPercentage: 'walking_double_support_percentage',
  AppleWalkingSteadiness: 'apple_walking_steadiness',
  StairAscentSpeed: 'stair_speed_up',
  StairDescentSpeed: 'stair_speed_down',
  SixMinuteWalkTestDistance: 'six_minute_walking_test_distance',
  // Hearing
  EnvironmentalAudioExposure: 'environmental_audio_exposure',
  HeadphoneAudioExposure: 'headphone_audio_exposure',
  EnvironmentalSoundReduction: 'environmental_sound_reduction',
  // Nutrition (HAE's dietary_* spellings; the rest follow the generic rule: DietaryVitaminB6 →
  // dietary_vitamin_b6, DietaryFatTotal → dietary_fat_total, ...)
  DietaryEnergyConsumed: 'dietary_energy',
};

/** Nutrition identifiers that the generic rule already maps onto a dietary_* name HAE knows. */
const DIETARY = [
  'Carbohydrates', 'Protein', 'FatTotal', 'FatSaturated', 'FatMonounsaturated', 'FatPolyunsaturated',
  'Cholesterol', 'Fiber', 'Sugar', 'Water', 'Caffeine', 'Calcium', 'Chloride', 'Chromium', 'Copper',
  'Iodine', 'Iron', 'Magnesium', 'Manganese', 'Molybdenum', 'Phosphorus', 'Potassium', 'Selenium',
  'Sodium', 'Zinc', 'Biotin', 'Folate', 'Niacin', 'PantothenicAcid', 'Riboflavin', 'Thiamin',
  'VitaminA', 'VitaminB6', 'VitaminB12', 'VitaminC', 'VitaminD', 'VitaminE', 'VitaminK',
];

const CATEGORY: Record<string, string> = {
  MindfulSession: 'mindful_minutes',
  AppleStandHour: 'apple_stand_hour',
  HandwashingEvent: 'handwashing',
  ToothbrushingEvent: 'toothbrushing',
  SexualActivity: 'sexual_activity',
  MenstrualFlow: 'menstrual_flow',
  IntermenstrualBleeding: 'intermenstrual_bleeding',
  CervicalMucusQuality: 'cervical_mucus_quality',
  OvulationTestResult: 'ovulation_test_result',
  Contraceptive: 'contraceptive',
  PregnancyTestResult: 'pregnancy_test_result',
  ProgesteroneTestResult: 'progesterone_test_result',
  Lactation: 'lactation',
  Pregnancy: 'pregnancy',
  HighHeartRateEvent: 'high_heart_rate_notifications',
  LowHeartRateEvent: 'low_heart_rate_notifications',
  IrregularHeartRhythmEvent: 'irregular_heart_rate_notifications',
};

function buildTable(): Map<string, AppleType> {
  const t = new Map<string, AppleType>();
  for (const [id, metric] of Object.entries(QUANTITY)) t.set(Q + id, { metric, kind: 'quantity' });
  for (const d of DIETARY) t.set(Q + 'Dietary' + d, { metric: 'dietary_' + snakeCase(d), kind: 'quantity' });
  t.set(Q + 'HeartRate', { metric: 'heart_rate', kind: 'heart_rate' });
  for (const [id, metric] of Object.entries(CATEGORY)) t.set(C + id, { metric, kind: 'category' });
  t.set(C + 'SleepAnalysis', { metric: 'sleep_analysis', kind: 'sleep' });
  t.set(C + 'MindfulSession', { metric: 'mindful_minutes', kind: 'duration_min' });
  t.set(C + 'AppleStandHour', { metric: 'apple_stand_hour', kind: 'stand_hour' });
  return t;
}

/** The mapping table, identifier → HAE metric name and record kind. */
export const APPLE_TYPES: ReadonlyMap<string, AppleType> = buildTable();

/** Cache of identifiers resolved by the generic rule (bounded: a hostile file cannot grow it). */
const derived = new Map<string, AppleType>();

/** How to store a Record of this `type` attribute. */
export function appleType(type: string): AppleType {
  const known = APPLE_TYPES.get(type);
  if (known !== undefined) return known;
  let d = derived.get(type);
  if (d === undefined) {
    const category = type.startsWith(C);
    d = { metric: metricNameOf(type), kind: category ? 'category' : 'quantity' };
    if (derived.size < 10_000) derived.set(type, d);
  }
  return d;
}

const PREFIX = /^HK[A-Za-z]*?TypeIdentifier/;

/** Own name of an identifier not in the table: prefix stripped, snake_cased. */
export function metricNameOf(type: string): string {
  const bare = type.replace(PREFIX, '');
  const name = snakeCase(bare);
  return name.length > 0 ? name : 'unknown';
}

/**
 * CamelCase → snake_case as HAE spells names: VO2Max → vo2_max, ForcedExpiratoryVolume1 →
 * forced_expiratory_volume_1, VitaminB12 → vitamin_b12, HeartRateVariabilitySDNN →
 * heart_rate_variability_sdnn, UVExposure → uv_exposure.
 */
export function snakeCase(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([a-z])([0-9])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Sleep stages

/** HKCategoryValueSleepAnalysis* → the stage names HAE writes for unaggregated sleep. */
export const SLEEP_STAGES: Record<string, string> = {
  HKCategoryValueSleepAnalysisInBed: 'In Bed',
  HKCategoryValueSleepAnalysisAsleep: 'Asleep',
  HKCategoryValueSleepAnalysisAsleepUnspecified: 'Asleep',
  HKCategoryValueSleepAnalysisAsleepCore: 'Core',
  HKCategoryValueSleepAnalysisAsleepDeep: 'Deep',
  HKCategoryValueSleepAnalysisAsleepREM: 'REM',
  HKCategoryValueSleepAnalysisAwake: 'Awake',
};

// ---------------------------------------------------------------------------------------------
// Workouts

/**
 * HKWorkoutActivityType* → workout name. Running, walking and cycling take HAE's Indoor/Outdoor
 * names when the HKIndoorWorkout metadata says which (1 indoor, 0 outdoor); swimming takes Pool /
 * Open Water from HKSwimmingLocationType (1 pool, 2 open water). Everything else: the identifier
 * without its prefix, split into words (TraditionalStrengthTraining → Traditional Strength
 * Training).
 */
const WORKOUT_NAMES: Record<string, string> = {
  // Words alone would read oddly for these.
  DanceInspiredTraining: 'Dance Inspired Training',
  MindAndBody: 'Mind and Body',
  PreparationAndRecovery: 'Preparation and Recovery',
  HandCycling: 'Hand Cycling',
};

const WORKOUT_PREFIX = 'HKWorkoutActivityType';

export function workoutName(activityType: string, indoor: boolean | null, swimmingLocation: string | null): string {
  const bare = activityType.startsWith(WORKOUT_PREFIX) ? activityType.slice(WORKOUT_PREFIX.length) : activityType;
  switch (bare) {
    case 'Running':
      return indoor === null ? 'Running' : indoor ? 'Indoor Run' : 'Outdoor Run';
    case 'Walking':
      return indoor === null ? 'Walking' : indoor ? 'Indoor Walk' : 'Outdoor Walk';
    case 'Cycling':
      return indoor === null ? 'Cycling' : indoor ? 'Indoor Cycling' : 'Outdoor Cycling';
    case 'Swimming':
      return swimmingLocation === '1' ? 'Pool Swim' : swimmingLocation === '2' ? 'Open Water Swim' : 'Swimming';
  }
  const named = WORKOUT_NAMES[bare];
  if (named !== undefined) return named;
  const words = bare.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').trim();
  return words.length > 0 ? words : activityType || 'Workout';
}
