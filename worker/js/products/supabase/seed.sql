insert into public.products (name, price, stock, category, sku) values
  ('kettle', 2450, 10, 'kitchen', 'KIT-1'),
  ('teapot', 1800, 4, 'kitchen', 'KIT-2'),
  ('mug', 625, 40, 'tableware', 'TAB-1'),
  ('bowl', 900, 12, 'tableware', 'TAB-2'),
  ('lamp', 3900, 3, 'home', 'HOM-1');

insert into public.categories (slug, name) values
  ('kitchen', 'Kitchen'),
  ('tableware', 'Tableware'),
  ('home', 'Home');
