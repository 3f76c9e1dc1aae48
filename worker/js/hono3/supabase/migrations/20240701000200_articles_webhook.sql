-- The Database Webhook to the production Worker; edgesim delivers it to the local Worker.
create trigger "articles_to_worker"
  after insert or update or delete on "public"."articles"
  for each row
  execute function "supabase_functions"."http_request"(
    'https://hono3.example.workers.dev/hooks/articles',
    'POST',
    '{"Content-Type":"application/json","x-webhook-secret":"local-webhook-secret"}',
    '{}',
    '5000'
  );
