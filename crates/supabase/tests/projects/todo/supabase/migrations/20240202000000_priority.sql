alter table public.todos add column priority priority not null default 'medium';
alter table public.todos add column if not exists labels text[] default '{}';
create index if not exists todos_user_id_idx on public.todos (user_id);
alter type priority add value 'urgent' after 'high';

create or replace view public.todo_stats as
  select user_id, count(*) as total, sum(case when is_complete then 1 else 0 end) as done
  from public.todos
  group by user_id;
