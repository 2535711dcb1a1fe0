static string Outside() => "outside the runbook folder";
