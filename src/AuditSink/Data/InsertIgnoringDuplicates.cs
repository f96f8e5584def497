using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace EdgeSigner.AuditSink.Data;

/// <summary>
/// One multi-row <c>INSERT ... ON CONFLICT (key) DO NOTHING</c> for a batch of rows: one round trip, written whole
/// or not at all, and a row whose key is already stored (a redelivery) is skipped. PostgreSQL and SQLite both take it.
/// </summary>
public static class InsertIgnoringDuplicates
{
    /// <summary>Inserts <paramref name="rows"/> (values in <paramref name="columns"/> order); returns how many were new.</summary>
    public static async Task<int> ExecuteAsync<TEntity>(
        DbContext db, IReadOnlyList<string> columns, string keyColumn, IReadOnlyList<object?[]> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return 0;
        }

        var sqlHelper = db.GetService<ISqlGenerationHelper>();
        var entity = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not mapped.");
        var sql = new StringBuilder()
            .Append("INSERT INTO ").Append(sqlHelper.DelimitIdentifier(entity.GetTableName()!, entity.GetSchema()))
            .Append(" (").AppendJoin(", ", columns.Select(sqlHelper.DelimitIdentifier)).Append(") VALUES ");
        var parameters = new List<object?>(rows.Count * columns.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != columns.Count)
            {
                throw new ArgumentException($"Row {i} has {rows[i].Length} values for {columns.Count} columns.", nameof(rows));
            }

            sql.Append(i == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Count; c++)
            {
                sql.Append(c == 0 ? "{" : ", {").Append(parameters.Count.ToString(CultureInfo.InvariantCulture)).Append('}');
                parameters.Add(rows[i][c]);
            }

            sql.Append(')');
        }

        sql.Append(" ON CONFLICT (").Append(sqlHelper.DelimitIdentifier(keyColumn)).Append(") DO NOTHING");
        return await db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters!, cancellationToken);
    }
}
