insert into public.products (name, price, stock) values
  ('kettle', 2450, 10),
  ('teapot', 1800, 4),
  ('mug', 625, 40);
