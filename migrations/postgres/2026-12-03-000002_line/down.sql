DROP TABLE line_link_codes;
DROP TABLE line_links;
