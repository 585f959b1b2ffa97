# Ruby on Rails' Active Record on the pg gem, a model and a relation per request
# (contract: _common.py). Run as `ruby rails_client.rb VARIANT`.
#
# Default: prepared_statements: true: each relation query is prepared as a<n> (a counter
# per connection from 1, StatementPool#next_key) and cached for the connection
# (statement_limit 1000), so two instances pick the same names. Active Record binds the
# LIMIT too, so the two instances differ in the columns they read instead (instance 0 the
# ids, instance 1 ids and names): a statement that resolves to the other instance's gets
# rows of the wrong shape ("wrong result"). Fix: prepared_statements: false, with which the
# values are quoted into the SQL and sent unnamed. Source:
# https://github.com/rails/rails/blob/v6.1.7.10/activerecord/lib/active_record/connection_adapters/postgresql_adapter.rb
# (StatementPool#next_key, exec_cache, prepare_statement) and
# https://guides.rubyonrails.org/v6.1/configuring.html#configuring-a-postgresql-database

require "json"
require "uri"
require "active_record"

QUERIES = (ENV["DRIVER_QUERIES"] || "").empty? ? 12 : ENV["DRIVER_QUERIES"].to_i
PAUSE = ((ENV["DRIVER_PAUSE_MS"] || "").empty? ? 20 : ENV["DRIVER_PAUSE_MS"].to_i) / 1000.0
INSTANCE = (ENV["DRIVER_INSTANCE"] || "0").to_i
LIMIT = 3 + INSTANCE
COLUMNS = INSTANCE.zero? ? [:id] : [:id, :name]
VARIANT = ARGV[0] || "default"
PASSWORD = URI.decode_www_form_component(URI.parse(ENV["DATABASE_URL"]).password || "")

class DriverItem < ActiveRecord::Base
  self.table_name = "driver_item"
end

class WrongResult < StandardError; end

$out = { ok: false, error: "", errors: 0, queries: 0, seen: [], driver: "rails",
         version: ActiveRecord.version.to_s, variant: VARIANT }

def failed(exc)
  text = exc.message.to_s.strip.lines.first.to_s.strip
  text = exc.class.name if text.empty?
  text = text.gsub(PASSWORD, "***") unless PASSWORD.empty?
  $out[:errors] += 1
  $out[:error] = text if $out[:error].empty?
  $out[:seen] << text if !$out[:seen].include?(text) && $out[:seen].size < 3
end

def emit
  $out[:ok] = $out[:errors].zero?
  $stdout.puts JSON.generate($out)
  $stdout.flush
end

def check(rows, i)
  if rows.any? { |row| row.is_a?(Array) != (COLUMNS.size > 1) }
    raise WrongResult, "wrong result: rows #{rows.first.inspect}, expected the columns #{COLUMNS.join(', ')}"
  end
  ids = COLUMNS.size > 1 ? rows.map(&:first) : rows
  expected = ((i + 1)..(i + LIMIT)).to_a
  raise WrongResult, "wrong result: #{ids.size} rows from a query with LIMIT #{LIMIT}" if ids.size != LIMIT
  raise WrongResult, "wrong result: ids #{ids}, expected #{expected}" if ids != expected
end

begin
  config = { url: ENV["DATABASE_URL"] }
  config[:prepared_statements] = false if VARIANT == "fix"
  ActiveRecord::Base.establish_connection(config)
  ActiveRecord::Base.connection.verify!
rescue StandardError => e
  failed(e)
  emit
  exit 0
end

barrier = ENV["DRIVER_BARRIER"]
if barrier && !barrier.empty?
  File.write(File.join(barrier, "ready-#{Process.pid}"), "")
  deadline = Time.now + 60
  sleep 0.005 until File.exist?(File.join(barrier, "go")) || Time.now > deadline
end

QUERIES.times do |i|
  begin
    check(DriverItem.where(id: (i + 1)..).order(:id).limit(LIMIT).pluck(*COLUMNS), i)
  rescue StandardError => e
    failed(e)
  end
  $out[:queries] += 1
  sleep PAUSE
end
begin
  ActiveRecord::Base.connection_pool.disconnect!
rescue StandardError
  nil # a failed close is not the stack's failure
end
emit
