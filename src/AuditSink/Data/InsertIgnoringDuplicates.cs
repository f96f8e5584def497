using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace EdgeSigner.AuditSink.Data;

/// <summary>
/// Builds one command of multi-row <c>INSERT ... ON CONFLICT (key) DO NOTHING</c> statements: a batch is written in
/// one round trip and one transaction, whole or not at all, and a row whose key is already stored (a redelivery)
/// is skipped. PostgreSQL and SQLite both take it.
/// </summary>
public sealed class InsertIgnoringDuplicates(DbContext db)
{
    private readonly StringBuilder _sql = new();
    private readonly List<object?> _parameters = [];
    private readonly ISqlGenerationHelper _sqlHelper = db.GetService<ISqlGenerationHelper>();

    /// <summary>Adds the rows of <typeparamref name="TEntity"/> (values in <paramref name="columns"/> order).</summary>
    public InsertIgnoringDuplicates Rows<TEntity>(IReadOnlyList<string> columns, IReadOnlyList<string> keyColumns, IReadOnlyList<object?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(keyColumns);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return this;
        }

        var entity = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not mapped.");
        _sql.Append("INSERT INTO ").Append(_sqlHelper.DelimitIdentifier(entity.GetTableName()!, entity.GetSchema()))
            .Append(" (").AppendJoin(", ", columns.Select(_sqlHelper.DelimitIdentifier)).Append(") VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != columns.Count)
            {
                throw new ArgumentException($"Row {i} has {rows[i].Length} values for {columns.Count} columns.", nameof(rows));
            }

            _sql.Append(i == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Count; c++)
            {
                _sql.Append(c == 0 ? "{" : ", {").Append(_parameters.Count.ToString(CultureInfo.InvariantCulture)).Append('}');
                _parameters.Add(rows[i][c]);
            }

            _sql.Append(')');
        }

        _sql.Append(" ON CONFLICT (").AppendJoin(", ", keyColumns.Select(_sqlHelper.DelimitIdentifier)).Append(") DO NOTHING;\n");
        return this;
    }

    /// <summary>Runs every statement in one command; returns the rows affected.</summary>
    public Task<int> ExecuteAsync(CancellationToken cancellationToken) =>
        _sql.Length == 0 ? Task.FromResult(0) : db.Database.ExecuteSqlRawAsync(_sql.ToString(), _parameters!, cancellationToken);
}
