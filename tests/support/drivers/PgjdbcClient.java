// PgJDBC (org.postgresql:postgresql), one Connection and a PreparedStatement per query, as
// JDBC code (or a pool such as HikariCP under Spring) does it (contract: _common.py): each
// request reads in autocommit, then in a transaction (setAutoCommit(false) ... commit(), a
// @Transactional method). Compiled once per test session by tests/support/drivers/__init__.py.
//
// Default: prepareThreshold=5: a query runs with the unnamed statement until the same SQL
// has been executed 5 times on the connection (the count lives in the per-connection
// statement cache, preparedStatementCacheQueries=256, so it survives closing the
// PreparedStatement), then it is prepared as the named statement S_<n>, numbered per
// connection from 1, and reused. Fix: prepareThreshold=0 never prepares a named statement.
// Source: https://github.com/pgjdbc/pgjdbc/blob/REL42.5.5/pgjdbc/src/main/java/org/postgresql/PGProperty.java
// (PREPARE_THRESHOLD), .../core/v3/QueryExecutorImpl.java (sendParse: "S_" + counter) and
// .../jdbc/PgPreparedStatement.java; https://jdbc.postgresql.org/documentation/use/
import java.io.File;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class PgjdbcClient {
  static final int QUERIES = env("DRIVER_QUERIES", 12);
  static final int PAUSE_MS = env("DRIVER_PAUSE_MS", 20);
  static final int LIMIT = 3 + env("DRIVER_INSTANCE", 0);
  static final String SQL =
      "SELECT id, name FROM driver_item WHERE id > ? ORDER BY id LIMIT " + LIMIT;

  static String variant = "default";
  static String password = "";
  static int errors = 0;
  static int done = 0;
  static String error = "";
  static final List<String> seen = new ArrayList<>();

  static int env(String name, int fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : Integer.parseInt(value);
  }

  // The first line of what a stack trace shows (class: message), password blanked.
  static String oneLine(Throwable e) {
    String text = e.toString().strip().split("\n", 2)[0];
    return password.isEmpty() ? text : text.replace(password, "***");
  }

  static void failed(Throwable e) {
    errors++;
    String text = oneLine(e);
    if (error.isEmpty()) error = text;
    if (!seen.contains(text) && seen.size() < 3) seen.add(text);
  }

  static String json(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }

  static void emit(String version) {
    List<String> quoted = new ArrayList<>();
    for (String s : seen) quoted.add(json(s));
    System.out.println(
        "{\"ok\": " + (errors == 0) + ", \"error\": " + json(error) + ", \"errors\": " + errors
            + ", \"queries\": " + done + ", \"seen\": [" + String.join(", ", quoted)
            + "], \"driver\": \"pgjdbc\", \"version\": " + json(version)
            + ", \"variant\": " + json(variant) + "}");
    System.out.flush();
  }

  static void waitStart() throws InterruptedException {
    String barrier = System.getenv("DRIVER_BARRIER");
    if (barrier == null || barrier.isEmpty()) return;
    try {
      new File(barrier, "ready-" + ProcessHandle.current().pid()).createNewFile();
    } catch (java.io.IOException e) {
      return;
    }
    long deadline = System.currentTimeMillis() + 60000;
    while (!new File(barrier, "go").exists() && System.currentTimeMillis() < deadline) {
      Thread.sleep(5);
    }
  }

  // The harness's own finding, shown as the other programs show it (no class name).
  static class WrongResult extends RuntimeException {
    WrongResult(String message) {
      super(message);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }

  static void check(List<Integer> ids, int i) {
    List<Integer> expected = new ArrayList<>();
    for (int k = 1; k <= LIMIT; k++) expected.add(i + k);
    if (ids.size() != LIMIT) {
      throw new WrongResult(
          "wrong result: " + ids.size() + " rows from a query with LIMIT " + LIMIT);
    }
    if (!ids.equals(expected)) {
      throw new WrongResult("wrong result: ids " + ids + ", expected " + expected);
    }
  }

  static List<Integer> read(Connection conn, int i) throws Exception {
    List<Integer> ids = new ArrayList<>();
    try (PreparedStatement ps = conn.prepareStatement(SQL)) {
      ps.setInt(1, i);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) ids.add(rs.getInt(1));
      }
    }
    return ids;
  }

  public static void main(String[] args) throws Exception {
    variant = args.length > 0 ? args[0] : "default";
    String version = org.postgresql.util.DriverInfo.DRIVER_VERSION;
    Connection conn;
    try {
      URI uri = new URI(System.getenv("DATABASE_URL"));
      String[] user = uri.getRawUserInfo().split(":", 2);
      password = user.length > 1 ? URLDecoder.decode(user[1], StandardCharsets.UTF_8) : "";
      Properties props = new Properties();
      props.setProperty("user", URLDecoder.decode(user[0], StandardCharsets.UTF_8));
      props.setProperty("password", password);
      if (variant.equals("fix")) props.setProperty("prepareThreshold", "0");
      String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath();
      conn = DriverManager.getConnection(jdbc, props);
    } catch (Exception e) {
      failed(e);
      emit(version);
      return;
    }
    waitStart();
    for (int i = 0; i < QUERIES; i++) {
      try {
        check(read(conn, i), i);
        conn.setAutoCommit(false);
        try {
          check(read(conn, i), i);
          conn.commit();
        } catch (Exception e) {
          conn.rollback();
          throw e;
        } finally {
          conn.setAutoCommit(true);
        }
      } catch (Exception e) {
        failed(e);
      }
      done++;
      Thread.sleep(PAUSE_MS);
    }
    try {
      conn.close();
    } catch (Exception e) {
      // a failed close is not the stack's failure
    }
    emit(version);
  }
}
