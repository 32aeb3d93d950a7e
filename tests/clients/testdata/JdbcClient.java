// Driven by TestJDBC: the PostgreSQL JDBC driver against Strand. Prints OK
// lines; any failure throws and exits non-zero.
import java.math.BigDecimal;
import java.sql.*;

public class JdbcClient {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    // primaryKeys lists getPrimaryKeys as COLUMN_NAME:KEY_SEQ:PK_NAME, in
    // the driver's order (KEY_SEQ).
    static String primaryKeys(DatabaseMetaData md, String table) throws SQLException {
        StringBuilder sb = new StringBuilder();
        try (ResultSet rs = md.getPrimaryKeys(null, "public", table)) {
            while (rs.next()) {
                check(rs.getString("TABLE_NAME").equals(table), "getPrimaryKeys TABLE_NAME " + rs.getString("TABLE_NAME"));
                sb.append(rs.getString("COLUMN_NAME")).append(':').append(rs.getShort("KEY_SEQ")).append(':').append(rs.getString("PK_NAME")).append(' ');
            }
        }
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0])) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE jdbc_items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz)");
                // A composite key whose order differs from the columns' order.
                s.execute("CREATE TABLE jdbc_orders (region text, id bigint, note text, PRIMARY KEY (id, region))");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_items VALUES (?, ?, ?, ?)")) {
                for (int i = 1; i <= 20; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "item " + i);
                    ps.setBigDecimal(3, new BigDecimal("2.50").multiply(BigDecimal.valueOf(i)));
                    ps.setTimestamp(4, new Timestamp(1700000000000L + i));
                    ps.executeUpdate();
                }
            }
            // Past prepareThreshold (5) the driver switches to named server-side statements.
            try (PreparedStatement ps = c.prepareStatement("SELECT name, price FROM jdbc_items WHERE id = ?")) {
                for (int i = 1; i <= 10; i++) {
                    ps.setLong(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        check(rs.next(), "row " + i);
                        check(rs.getString(1).equals("item " + i), "name " + i);
                        check(rs.getBigDecimal(2).compareTo(new BigDecimal("2.50").multiply(BigDecimal.valueOf(i))) == 0, "price " + i);
                    }
                }
            }
            System.out.println("OK prepared statements");

            DatabaseMetaData md = c.getMetaData();
            try (ResultSet rs = md.getTables(null, "public", "jdbc_%", new String[] {"TABLE"})) {
                check(rs.next(), "getTables row");
                check(rs.getString("TABLE_NAME").equals("jdbc_items"), "getTables name " + rs.getString("TABLE_NAME"));
            }
            System.out.println("OK getTables");
            // getColumns uses window functions (row_number() OVER);
            // getPrimaryKeys a set-returning function in the select list
            // (information_schema._pg_expandarray) and field selection
            // from its record values.
            try (ResultSet rs = md.getColumns(null, "public", "jdbc_items", null)) {
                StringBuilder sb = new StringBuilder();
                while (rs.next()) sb.append(rs.getString("COLUMN_NAME")).append(':').append(rs.getString("TYPE_NAME")).append(' ');
                check(sb.toString().equals("id:int8 name:text price:numeric at:timestamptz "), "getColumns " + sb);
            }
            System.out.println("OK getColumns");
            check(primaryKeys(md, "jdbc_items").equals("id:1:jdbc_items_pkey "), "getPrimaryKeys jdbc_items " + primaryKeys(md, "jdbc_items"));
            check(primaryKeys(md, "jdbc_orders").equals("id:1:jdbc_orders_pkey region:2:jdbc_orders_pkey "), "getPrimaryKeys jdbc_orders " + primaryKeys(md, "jdbc_orders"));
            System.out.println("OK getPrimaryKeys");
        }
    }
}
