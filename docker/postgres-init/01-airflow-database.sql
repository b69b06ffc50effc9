-- Airflow's metadata lives in its own database beside the warehouse.
create database airflow;
