# Generated documents and imports are tracked as core.Job rows (kind="export" / "import").
