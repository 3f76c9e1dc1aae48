insert into public.rooms (name) values ('Blue'), ('Green');
insert into public.bookings (room_id, during) values (1, '[2024-01-01 10:00, 2024-01-01 11:00)');
insert into public.readings (logged_at, value) values (now(), 1.5);
select cron.schedule('nightly-cleanup', '0 3 * * *', 'delete from public.readings');
