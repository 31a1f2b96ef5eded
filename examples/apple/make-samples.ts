/**
 * Writes the small Apple Health export samples (the Health app's "Export All Health Data"):
 *
 *   examples/apple/export.zip              apple_health_export/export.xml (every element kind),
 *                                          export_cda.xml (ignored by the importer), one GPX
 *                                          route, one ECG CSV
 *   examples/apple/export-bad.xml          a well-formed export with bad records among good ones
 *   examples/apple/export-truncated.xml    export.xml cut off in the middle of a Record
 *
 *   node --import tsx examples/apple/make-samples.ts
 *
 * Deterministic (fixed zip timestamps). The user lives in America/Los_Angeles (PDT, -0700, in
 * March 2024 after the 10th); sources use the typographic apostrophe like the HAE samples.
 * tests/apple/ import these and check every value below.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeZip } from '../make-archives.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export const WATCH = 'Jane’s Apple Watch';
export const PHONE = 'Jane’s iPhone';
const DEVICE =
  '&lt;&lt;HKDevice: 0x283d0a1c0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1, software:10.3&gt;';

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-03-14 09:00:00 -0700"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
`;

function rec(type: string, attrs: { source?: string; unit?: string; value?: string; start: string; end?: string; device?: boolean }, children = ''): string {
  const a = [
    `type="${type}"`,
    `sourceName="${attrs.source ?? WATCH}"`,
    `sourceVersion="10.3"`,
    attrs.device === false ? '' : `device="${DEVICE}"`,
    attrs.unit !== undefined ? `unit="${attrs.unit}"` : '',
    `creationDate="${attrs.end ?? attrs.start}"`,
    `startDate="${attrs.start}"`,
    `endDate="${attrs.end ?? attrs.start}"`,
    attrs.value !== undefined ? `value="${attrs.value}"` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return children ? ` <Record ${a}>\n${children} </Record>\n` : ` <Record ${a}/>\n`;
}

const meta = (key: string, value: string, indent = '  ') => `${indent}<MetadataEntry key="${key}" value="${value}"/>\n`;

const Q = 'HKQuantityTypeIdentifier';
const C = 'HKCategoryTypeIdentifier';

/** The Records of export.xml (also the body of the truncated sample). */
export const RECORDS: string[] = [
  // The same two step samples an HAE export carries (same instant, source and value): they dedupe.
  rec(Q + 'StepCount', { unit: 'count', value: '120', start: '2024-03-11 08:00:00 -0700', device: false }),
  rec(Q + 'StepCount', { unit: 'count', value: '250', start: '2024-03-11 09:00:00 -0700', device: false }),
  // An interval sample: ended_at is kept.
  rec(Q + 'StepCount', { unit: 'count', value: '512', start: '2024-03-11 10:00:00 -0700', end: '2024-03-11 10:07:30 -0700' }),
  rec(Q + 'DistanceWalkingRunning', { unit: 'km', value: '0.42', start: '2024-03-11 10:00:00 -0700', end: '2024-03-11 10:07:30 -0700' }),
  rec(Q + 'ActiveEnergyBurned', { unit: 'Cal', value: '12.5', start: '2024-03-11 10:00:00 -0700', end: '2024-03-11 10:07:30 -0700' }),
  rec(Q + 'HeartRate', { unit: 'count/min', value: '62', start: '2024-03-11 08:30:00 -0700' }, meta('HKMetadataKeyHeartRateMotionContext', '1')),
  rec(Q + 'HeartRate', { unit: 'count/min', value: '75', start: '2024-03-11 08:31:10 -0700' }),
  rec(Q + 'RestingHeartRate', { unit: 'count/min', value: '54', start: '2024-03-11 00:00:00 -0700', end: '2024-03-11 23:59:00 -0700' }),
  rec(
    Q + 'HeartRateVariabilitySDNN',
    { unit: 'ms', value: '48.2', start: '2024-03-11 03:10:00 -0700', end: '2024-03-11 03:11:00 -0700' },
    '  <HeartRateVariabilityMetadataList>\n' +
      '   <InstantaneousBeatsPerMinute bpm="58" time="3:10:01.21 AM"/>\n' +
      '   <InstantaneousBeatsPerMinute bpm="61" time="3:10:02.19 AM"/>\n' +
      '  </HeartRateVariabilityMetadataList>\n',
  ),
  rec(Q + 'OxygenSaturation', { unit: '%', value: '0.97', start: '2024-03-11 04:00:00 -0700' }),
  rec(Q + 'BodyMass', { source: 'Withings Body+', unit: 'kg', value: '72.5', start: '2024-03-11 07:00:00 -0700', device: false }),
  rec(Q + 'BloodPressureSystolic', { source: 'Withings BPM Connect', unit: 'mmHg', value: '121', start: '2024-03-11 07:10:00 -0700', device: false }),
  rec(Q + 'BloodPressureDiastolic', { source: 'Withings BPM Connect', unit: 'mmHg', value: '79', start: '2024-03-11 07:10:00 -0700', device: false }),
  rec(Q + 'BloodGlucose', { source: 'Meter', unit: 'mg/dL', value: '98', start: '2024-03-11 08:05:00 -0700', device: false }, meta('HKBloodGlucoseMealTime', '1')),
  rec(Q + 'DietaryEnergyConsumed', { source: 'MyFitnessPal', unit: 'Cal', value: '540', start: '2024-03-11 12:30:00 -0700', device: false }),
  rec(Q + 'DietaryProtein', { source: 'MyFitnessPal', unit: 'g', value: '31', start: '2024-03-11 12:30:00 -0700', device: false }),
  rec(Q + 'AppleFutureMetric2027', { unit: 'zz', value: '3', start: '2024-03-11 12:00:00 -0700' }),
  // Sleep, one night: In Bed around the stages.
  rec(C + 'SleepAnalysis', { source: PHONE, value: 'HKCategoryValueSleepAnalysisInBed', start: '2024-03-10 23:00:00 -0700', end: '2024-03-11 06:45:00 -0700', device: false }),
  rec(C + 'SleepAnalysis', { value: 'HKCategoryValueSleepAnalysisAsleepCore', start: '2024-03-10 23:10:00 -0700', end: '2024-03-11 01:00:00 -0700' }),
  rec(C + 'SleepAnalysis', { value: 'HKCategoryValueSleepAnalysisAsleepDeep', start: '2024-03-11 01:00:00 -0700', end: '2024-03-11 01:45:00 -0700' }),
  rec(C + 'SleepAnalysis', { value: 'HKCategoryValueSleepAnalysisAsleepREM', start: '2024-03-11 01:45:00 -0700', end: '2024-03-11 02:30:00 -0700' }),
  rec(C + 'SleepAnalysis', { value: 'HKCategoryValueSleepAnalysisAwake', start: '2024-03-11 02:30:00 -0700', end: '2024-03-11 02:36:00 -0700' }),
  rec(C + 'SleepAnalysis', { value: 'HKCategoryValueSleepAnalysisAsleepUnspecified', start: '2024-03-11 02:36:00 -0700', end: '2024-03-11 06:40:00 -0700' }),
  rec(C + 'Headache', { source: PHONE, value: 'HKCategoryValueSeverityMild', start: '2024-03-11 15:00:00 -0700', end: '2024-03-11 17:00:00 -0700', device: false }),
  rec(C + 'MindfulSession', { value: 'HKCategoryValueNotApplicable', start: '2024-03-11 21:00:00 -0700', end: '2024-03-11 21:10:00 -0700' }),
  rec(C + 'AppleStandHour', { value: 'HKCategoryValueAppleStandHourStood', start: '2024-03-11 09:00:00 -0700', end: '2024-03-11 10:00:00 -0700' }),
];

const CORRELATIONS = ` <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Withings BPM Connect" sourceVersion="5.2" creationDate="2024-03-11 07:10:00 -0700" startDate="2024-03-11 07:10:00 -0700" endDate="2024-03-11 07:10:00 -0700">
  <MetadataEntry key="HKWasUserEntered" value="0"/>
  <Record type="HKQuantityTypeIdentifierBloodPressureDiastolic" sourceName="Withings BPM Connect" sourceVersion="5.2" unit="mmHg" creationDate="2024-03-11 07:10:00 -0700" startDate="2024-03-11 07:10:00 -0700" endDate="2024-03-11 07:10:00 -0700" value="79"/>
  <Record type="HKQuantityTypeIdentifierBloodPressureSystolic" sourceName="Withings BPM Connect" sourceVersion="5.2" unit="mmHg" creationDate="2024-03-11 07:10:00 -0700" startDate="2024-03-11 07:10:00 -0700" endDate="2024-03-11 07:10:00 -0700" value="121"/>
 </Correlation>
 <Correlation type="HKCorrelationTypeIdentifierFood" sourceName="MyFitnessPal" sourceVersion="24.5" creationDate="2024-03-11 12:30:00 -0700" startDate="2024-03-11 12:30:00 -0700" endDate="2024-03-11 12:30:00 -0700">
  <MetadataEntry key="HKFoodMeal" value="Lunch"/>
  <Record type="HKQuantityTypeIdentifierDietaryEnergyConsumed" sourceName="MyFitnessPal" unit="Cal" creationDate="2024-03-11 12:30:00 -0700" startDate="2024-03-11 12:30:00 -0700" endDate="2024-03-11 12:30:00 -0700" value="540"/>
  <Record type="HKQuantityTypeIdentifierDietaryProtein" sourceName="MyFitnessPal" unit="g" creationDate="2024-03-11 12:30:00 -0700" startDate="2024-03-11 12:30:00 -0700" endDate="2024-03-11 12:30:00 -0700" value="31"/>
 </Correlation>
`;

export const ROUTE_FILE = 'workout-routes/route_2024-03-12_7.00am.gpx';

const WORKOUTS = ` <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="${WATCH}" sourceVersion="10.3" device="${DEVICE}" creationDate="2024-03-12 07:30:05 -0700" startDate="2024-03-12 07:00:00 -0700" endDate="2024-03-12 07:30:00 -0700">
  <MetadataEntry key="HKIndoorWorkout" value="0"/>
  <MetadataEntry key="HKTimeZone" value="America/Los_Angeles"/>
  <MetadataEntry key="HKWeatherTemperature" value="52 degF"/>
  <WorkoutEvent type="HKWorkoutEventTypePause" date="2024-03-12 07:10:00 -0700"/>
  <WorkoutEvent type="HKWorkoutEventTypeResume" date="2024-03-12 07:11:00 -0700"/>
  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="2024-03-12 07:00:00 -0700" duration="8.5" durationUnit="min">
   <MetadataEntry key="HKWorkoutEventMetadataKeySegmentIndex" value="0"/>
  </WorkoutEvent>
  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="2024-03-12 07:00:00 -0700" endDate="2024-03-12 07:30:00 -0700" sum="300" unit="Cal"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="2024-03-12 07:00:00 -0700" endDate="2024-03-12 07:30:00 -0700" sum="5.01" unit="km"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="2024-03-12 07:00:00 -0700" endDate="2024-03-12 07:30:00 -0700" average="148.5" minimum="101" maximum="171" unit="count/min"/>
  <WorkoutRoute sourceName="${WATCH}" sourceVersion="10.3" creationDate="2024-03-12 07:30:10 -0700" startDate="2024-03-12 07:00:05 -0700" endDate="2024-03-12 07:29:55 -0700">
   <MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>
   <FileReference path="/${ROUTE_FILE}"/>
  </WorkoutRoute>
 </Workout>
 <Workout workoutActivityType="HKWorkoutActivityTypeTraditionalStrengthTraining" duration="45" durationUnit="min" totalDistance="0" totalDistanceUnit="km" totalEnergyBurned="210" totalEnergyBurnedUnit="kcal" sourceName="${WATCH}" sourceVersion="9.1" creationDate="2024-03-13 18:45:02 -0700" startDate="2024-03-13 18:00:00 -0700" endDate="2024-03-13 18:45:00 -0700">
  <MetadataEntry key="HKIndoorWorkout" value="1"/>
 </Workout>
`;

const SUMMARIES = ` <ActivitySummary dateComponents="2024-03-11" activeEnergyBurned="452.25" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="Cal" appleMoveTime="0" appleMoveTimeGoal="0" appleExerciseTime="32" appleExerciseTimeGoal="30" appleStandHours="11" appleStandHoursGoal="12"/>
 <ActivitySummary dateComponents="2024-03-12" activeEnergyBurned="610" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="Cal" appleMoveTime="0" appleMoveTimeGoal="0" appleExerciseTime="41" appleExerciseTimeGoal="30" appleStandHours="12" appleStandHoursGoal="12"/>
 <ClinicalRecord type="HKClinicalTypeIdentifierLabResultRecord" identifier="lab-1" sourceName="Clinic" fhirVersion="4.0.1" receivedDate="2024-03-11 10:00:00 -0700" resourceFilePath="/clinical-records/lab-1.json"/>
`;

export const EXPORT_XML = HEAD + RECORDS.join('') + CORRELATIONS + WORKOUTS + SUMMARIES + '</HealthData>\n';

export const EXPORT_CDA_XML = `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Health Data Export</title></ClinicalDocument>
`;

function trkpt(lat: string, lon: string, ele: string, time: string, speed: string, course: string): string {
  return `   <trkpt lon="${lon}" lat="${lat}"><ele>${ele}</ele><time>${time}</time><extensions><speed>${speed}</speed><course>${course}</course><hAcc>3.1</hAcc><vAcc>2.4</vAcc></extensions></trkpt>\n`;
}

export const ROUTE_GPX = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Apple Health Export" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.topografix.com/GPX/1/1" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">
 <metadata><time>2024-03-12T14:30:10Z</time></metadata>
 <trk><name>Route 2024-03-12 7:00am</name><trkseg>
${trkpt('47.600000', '-122.300000', '10.2', '2024-03-12T14:00:05Z', '2.9', '181.2')}${trkpt('47.600210', '-122.300110', '10.8', '2024-03-12T14:00:10Z', '3.1', '182.0')}${trkpt('47.600430', '-122.300250', '11.5', '2024-03-12T14:00:15Z', '3.0', '183.4')}  </trkseg></trk>
</gpx>
`;

export const ECG_FILE = 'electrocardiograms/ecg_2024-03-13.csv';

/** 30 voltages (a real file holds ~15,000: 30 s at 512 Hz). */
export const ECG_VOLTAGES = Array.from({ length: 30 }, (_, i) => Math.round(Math.sin(i / 3) * 300_000) / 1000);

export const ECG_CSV =
  'Name,Jane Doe\n' +
  'Date of Birth,"Jan 1, 1990"\n' +
  'Recorded Date,2024-03-13 21:00:00 -0700\n' +
  'Classification,Sinus Rhythm\n' +
  'Symptoms,\n' +
  'Software Version,2\n' +
  'Device,"Watch6,1"\n' +
  'Sample Rate,512 hertz\n' +
  '\n' +
  'Lead,Lead I\n' +
  'Unit,µV\n' +
  '\n' +
  ECG_VOLTAGES.join('\n') +
  '\n';

/** The files of the export, as the zip holds them under apple_health_export/. */
export const EXPORT_FILES: Record<string, string> = {
  'export.xml': EXPORT_XML,
  'export_cda.xml': EXPORT_CDA_XML,
  [ROUTE_FILE]: ROUTE_GPX,
  [ECG_FILE]: ECG_CSV,
};

/** Good records around four bad ones (reasons in the comments); no truncation. */
export const BAD_XML =
  HEAD +
  rec(Q + 'StepCount', { unit: 'count', value: '10', start: '2024-05-01 10:00:00 -0700' }) +
  rec(Q + 'StepCount', { unit: 'count', value: 'abc', start: '2024-05-01 10:01:00 -0700' }) + // not a number
  rec(Q + 'HeartRate', { unit: 'count/min', value: '70', start: 'yesterday' }) + // not a date
  rec(Q + 'HeartRate', { unit: 'count/min', value: '900', start: '2024-05-01 10:03:00 -0700' }) + // > 300 bpm
  rec(Q + 'HeartRate', { unit: 'count/min', value: '72', start: '2024-05-01 10:04:00 -0700' }) +
  ` <Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="10" durationUnit="min" sourceName="${WATCH}" startDate="2024-05-01 11:00:00 -0700" endDate="2024-05-01 10:50:00 -0700"/>\n` + // ends before it starts
  rec(Q + 'StepCount', { unit: 'count', value: '30', start: '2024-05-01 10:05:00 -0700' }) +
  '</HealthData>\n';

/** export.xml cut off in the middle of its 8th Record (7 complete Records before the cut). */
export const TRUNCATED_XML = (() => {
  const full = HEAD + RECORDS.join('');
  const eighth = full.indexOf(RECORDS[7].trim());
  return full.slice(0, eighth + 60);
})();

function main(): void {
  const files = Object.entries(EXPORT_FILES).map(([name, text]) => ({ name: `apple_health_export/${name}`, data: Buffer.from(text) }));
  const zip = makeZip(files);
  writeFileSync(join(HERE, 'export.zip'), zip);
  writeFileSync(join(HERE, 'export-bad.xml'), BAD_XML);
  writeFileSync(join(HERE, 'export-truncated.xml'), TRUNCATED_XML);
  console.log(`wrote examples/apple/export.zip (${zip.length} bytes), export-bad.xml, export-truncated.xml`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
