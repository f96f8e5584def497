using Npgsql;

namespace EdgeSigner.EndToEnd.Tests;

/// <summary>Reads the audit store the way an auditor does: SQL against the <c>audit</c> schema.</summary>
public static class AuditRows
{
    public sealed record SignEventRow(
        string EventType, string TenantId, string SigningMode, string TbsHash, string KmsKeyId, string KmsRegion,
        bool Success, double TKmsMs, double TTotalMs, string Kid, string Format, int PayloadSize, string? ErrorType);

    public static async Task<List<SignEventRow>> ForRequestAsync(string connectionString, Guid requestId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT event_type, tenant_id, signing_mode, tbs_hash, kms_key_id, kms_region, success, t_kms_ms, t_total_ms,
                   kid, format, payload_size, error_type
            FROM audit.sign_events WHERE request_id = @id ORDER BY "timestamp", event_type
            """, connection);
        command.Parameters.AddWithValue("id", requestId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<SignEventRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new SignEventRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetBoolean(6), reader.GetDouble(7), reader.GetDouble(8),
                reader.GetString(9), reader.GetString(10), reader.GetInt32(11), reader.IsDBNull(12) ? null : reader.GetString(12)));
        }

        return rows;
    }
}
