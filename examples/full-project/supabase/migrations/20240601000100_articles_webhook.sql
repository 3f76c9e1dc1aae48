-- The Database Webhook to the production Worker (as the Dashboard writes it). edgesim delivers
-- it to the local Worker at /hooks/articles: a *.workers.dev host is the Worker's own.
create trigger "articles_to_worker"
  after insert or update or delete on "public"."articles"
  for each row
  execute function "supabase_functions"."http_request"(
    'https://full-project.example.workers.dev/hooks/articles',
    'POST',
    '{"Content-Type":"application/json","x-webhook-secret":"local-webhook-secret"}',
    '{}',
    '5000'
  );
