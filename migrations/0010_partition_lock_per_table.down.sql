-- Back to one advisory lock for the partitions of all tables (as 0001 made it).
CREATE OR REPLACE FUNCTION healthexport_create_month_partitions(p_table text, p_from date, p_to date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  m date := date_trunc('month', p_from)::date;
  part text;
  created integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM healthexport_partitioned_tables WHERE table_name = p_table) THEN
    RAISE EXCEPTION 'healthexport: % is not a month-partitioned table', p_table;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('healthexport_partitions'));
  WHILE m <= p_to LOOP
    part := p_table || '_p' || to_char(m, 'YYYYMM');
    IF to_regclass(quote_ident(part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                     part, p_table, m::text || ' 00:00:00+00',
                     (m + interval '1 month')::date::text || ' 00:00:00+00');
      created := created + 1;
    END IF;
    m := (m + interval '1 month')::date;
  END LOOP;
  RETURN created;
END $$;
