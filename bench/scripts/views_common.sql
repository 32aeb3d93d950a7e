-- Tables for the materialized-view workload, identical on Strand and
-- PostgreSQL. ev0 has nothing attached (the baseline); ev carries the three
-- views (Strand) or the three trigger-maintained summary tables (PostgreSQL).
CREATE TABLE acct (id bigint PRIMARY KEY, region text NOT NULL);
CREATE TABLE ev0 (id bigint PRIMARY KEY, acct bigint NOT NULL, amount bigint NOT NULL);
CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint NOT NULL, amount bigint NOT NULL);
INSERT INTO acct (id, region) SELECT i, 'region-' || (i % 20) FROM generate_series(1, 10000) AS s(i);
