"""Financial `model` blocks: rows and their exact arithmetic (`models`), binding (`bind`), readers (`use`)."""
